"""A local OTLP/HTTP trace receiver for the export tests.

Decodes every POST /v1/traces with the official OpenTelemetry protobuf definitions (PyPI
`opentelemetry-proto`), appends what it decoded to --out (one JSON object per request), and
answers the first requests with the statuses given by --faults (e.g. `429,500`), then 200.

  python otlp_receiver.py --port-file P --out OUT.jsonl [--faults 429,500] [--sink]
"""
import argparse
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    v = getattr(any_value, kind)
    if kind == "array_value":
        return [value(x) for x in v.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in v.values}
    if kind == "bytes_value":
        return v.hex()
    return v


def attrs(kvs):
    return {kv.key: value(kv.value) for kv in kvs}


def decode(body):
    req = ExportTraceServiceRequest.FromString(body)
    out = []
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(
                    {
                        "resource": attrs(rs.resource.attributes),
                        "scope": {"name": ss.scope.name, "version": ss.scope.version},
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "name": s.name,
                        "kind": s.kind,
                        "start": s.start_time_unix_nano,
                        "end": s.end_time_unix_nano,
                        "status": {"code": s.status.code, "message": s.status.message},
                        "attributes": attrs(s.attributes),
                    }
                )
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--faults", default="")
    ap.add_argument("--sink", action="store_true", help="accept without decoding (benches)")
    args = ap.parse_args()
    faults = [int(x) for x in args.faults.split(",") if x]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if args.sink:
                with lock, open(args.out, "a") as f:
                    f.write(json.dumps({"status": 200, "bytes": len(body)}) + "\n")
                payload = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            entry = {
                "path": self.path,
                "content_type": self.headers.get("content-type"),
                "raw_b64": base64.b64encode(body).decode(),
            }
            try:
                entry["spans"] = decode(body)
                status = 200
            except Exception as e:  # an undecodable body is a test failure, said loudly
                entry["error"] = repr(e)
                status = 400
            if self.path != "/v1/traces":
                status = 404
            with lock:
                if status == 200 and faults:
                    status = faults.pop(0)
                entry["status"] = status
                with open(args.out, "a") as f:
                    f.write(json.dumps(entry) + "\n")
            payload = ExportTraceServiceResponse().SerializeToString() if status == 200 else b"busy"
            self.send_response(status)
            if status == 429:
                self.send_header("retry-after", "0")
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os

    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
