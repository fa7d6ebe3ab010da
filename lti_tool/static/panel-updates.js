// Every 30 s, and when the panel's tab is shown again, ask whether the mentor sent something
// newer than the page shows; if so, say so in the polite live region with a link that
// reloads the panel. Without JavaScript the page is complete; it only misses the notice.
(function () {
  "use strict";
  var box = document.getElementById("panel-updates");
  if (!box || !box.dataset.updates || !window.fetch) return;
  var region = box.querySelector("[role=status]");
  var shown = box.dataset.latest || "";
  var timer = null, stopped = false;

  function announce() {
    if (region.childNodes.length) return;
    var link = document.createElement("a");
    link.href = box.dataset.reload;
    // The words come from the page, in its language.
    link.textContent = box.dataset.show || "Show them";
    region.appendChild(document.createTextNode((box.dataset.news || "New messages from your mentor") + " — "));
    region.appendChild(link);
  }

  function poll() {
    if (stopped) return;
    fetch(box.dataset.updates, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) {
        if (!response.ok) { stopped = true; return null; }  // e.g. the launch has expired
        return response.json();
      })
      .then(function (news) {
        if (news && news.latest !== null && String(news.latest) !== shown) announce();
      })
      .catch(function () { /* offline for now: the next poll tries again */ });
  }

  function schedule() {
    clearInterval(timer);
    timer = setInterval(poll, 30000);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { poll(); schedule(); }
  });
  schedule();
})();
