// vigie workspace: the only script the pages load (from 'self'). The pages work without it;
// it lets the queue's and alerts' buttons answer in place, and says when new documents came.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("js-write") || !window.fetch) return;
    ev.preventDefault();
    var field = form.getAttribute("data-field");
    var input = form.querySelector('input[name="' + field + '"]');
    var body = {};
    body[field] = input ? input.value : "";
    fetch(form.getAttribute("data-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) { form.submit(); return; }
      var item = form.closest("li");
      if (item && field === "state") {
        item.setAttribute("data-state", body[field]);
        var list = new URLSearchParams(location.search).get("state") || "open";
        if (list !== "all" && list !== body[field]) item.remove();
        else location.reload();
      } else {
        location.reload();
      }
    }).catch(function () { form.submit(); });
  });
  // new documents: ask how many there are, say so when the number grows
  if (!window.fetch || !document.querySelector("main")) return;
  var first = null;
  function poll() {
    fetch("/api/status", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        if (first === null) { first = s.documents; return; }
        if (s.documents > first && !document.querySelector(".banner")) {
          var b = document.createElement("p");
          b.className = "banner";
          b.textContent = document.body.getAttribute("data-new-documents") + " ";
          var a = document.createElement("a");
          a.href = location.href;
          a.textContent = document.body.getAttribute("data-reload");
          b.appendChild(a);
          var main = document.querySelector("main");
          main.insertBefore(b, main.firstChild);
        }
      }).catch(function () {});
  }
  poll();
  setInterval(poll, 15000);
})();
