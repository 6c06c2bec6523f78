// Probe appended to a copy of the HTML report by tests/tests/report_html.rs: measures what
// Chromium rendered and writes it as JSON into <pre id="probe">. Colours and contrast follow
// WCAG 2 (relative luminance, (L1 + 0.05) / (L2 + 0.05)).
(function () {
  "use strict";
  function rgb(c) {
    var m = c.match(/[\d.]+/g);
    return m ? m.slice(0, 3).map(Number) : [0, 0, 0];
  }
  function lum(c) {
    var a = rgb(c).map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  }
  function contrast(a, b) {
    var x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function overlap(a, b) {
    // 1px of tolerance: glyph boxes include ascent/descent padding.
    return a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  }
  var body = getComputedStyle(document.body);
  var bg = body.backgroundColor;
  var out = {
    dark: matchMedia("(prefers-color-scheme: dark)").matches,
    bg: bg,
    bg_luminance: lum(bg),
    text_contrast: contrast(body.color, bg),
    page_overflow: document.documentElement.scrollWidth > window.innerWidth,
    charts: []
  };
  Array.prototype.forEach.call(document.querySelectorAll("svg.chart"), function (svg) {
    var box = svg.getBoundingClientRect();
    var marks = svg.querySelectorAll(".mark");
    var visible = 0;
    Array.prototype.forEach.call(marks, function (m) {
      var r = m.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) visible++;
    });
    var fills = {};
    Array.prototype.forEach.call(svg.querySelectorAll(".mark rect, .mark circle, .series"), function (e) {
      var r = e.getBoundingClientRect();
      if (r.width <= 0 && r.height <= 0) return;
      var s = getComputedStyle(e);
      var paint = s.fill !== "none" ? s.fill : s.stroke;
      fills[paint] = contrast(paint, bg);
    });
    var texts = Array.prototype.filter.call(svg.querySelectorAll("text"), function (t) {
      return t.textContent.trim() !== "";
    });
    var minText = Infinity;
    var rects = texts.map(function (t) {
      minText = Math.min(minText, contrast(getComputedStyle(t).fill, bg));
      return { text: t.textContent, r: t.getBoundingClientRect() };
    });
    var overlaps = [], outside = [];
    for (var i = 0; i < rects.length; i++) {
      var r = rects[i].r;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        outside.push(rects[i].text);
      }
      for (var j = i + 1; j < rects.length; j++) {
        if (overlap(r, rects[j].r)) overlaps.push([rects[i].text, rects[j].text]);
      }
    }
    out.charts.push({
      id: svg.getAttribute("data-chart"),
      width: box.width,
      height: box.height,
      marks: marks.length,
      visible_marks: visible,
      min_text_contrast: minText,
      fill_contrasts: Object.keys(fills).map(function (k) { return fills[k]; }),
      fills: fills,
      overlaps: overlaps,
      outside: outside
    });
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
