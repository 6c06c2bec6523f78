fn main() {
    eprintln!("codex-shim: not yet implemented");
}
