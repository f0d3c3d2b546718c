// relocmatch advisor pages: progressive enhancement only. Every feature works without it.
(function () {
  "use strict";

  // Feedback buttons: send with fetch, stay on the page, announce the result.
  document.querySelectorAll("form.fb").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var submitter = ev.submitter;
      if (!window.fetch || !submitter) { return; }
      ev.preventDefault();
      var data = new FormData(form);
      data.set(submitter.name, submitter.value);
      var out = form.querySelector("output");
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (res) {
        if (!res.ok) { throw new Error(res.body.detail || "error"); }
        form.querySelectorAll("button[name=verdict]").forEach(function (b) {
          b.setAttribute("aria-pressed", b === submitter ? "true" : "false");
        });
        if (out) { out.textContent = res.body.message; }
      }).catch(function (err) {
        if (out) { out.textContent = "⚠ " + err.message; }
      });
    });
  });

  // Progress page: poll the small JSON endpoint and move the bar; go to results when done.
  var prog = document.querySelector("[data-poll]");
  if (prog) {
    var url = prog.getAttribute("data-poll");
    var bar = prog.querySelector("progress");
    var text = prog.querySelector("[data-progress-text]");
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.total) { bar.max = s.total; bar.value = s.done; }
          if (text && s.text) { text.textContent = s.text; }
          if (s.state === "done" || s.state === "failed") { window.location.reload(); return; }
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    };
    window.setTimeout(tick, 800);
  }
})();
