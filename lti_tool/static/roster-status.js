// While a roster sync runs, refresh its sentence every two seconds (a polite live region).
(function () {
  "use strict";
  var status = document.getElementById("roster-status");
  if (!status || !status.dataset.poll) return;
  var url = status.dataset.poll;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (roster) {
        if (!roster) return;
        status.textContent = roster.text;
        status.dataset.state = roster.state;
        if (roster.busy) { setTimeout(poll, 2000); return; }
        var button = document.querySelector("#roster button[type=submit]");
        if (button) button.disabled = false;
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
