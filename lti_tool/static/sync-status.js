// While a roster or grade-book read runs, refresh its sentence (a polite live region) and
// the learner count every two seconds; re-enable its button when it is over.
(function () {
  "use strict";
  var section = document.getElementById("syncs");
  if (!section || !section.dataset.poll) return;
  var url = section.dataset.poll;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) return;
        var syncs = answer.syncs, busy = false;
        var learners = document.getElementById("learner-count");
        if (learners && learners.textContent !== answer.learners) {
          learners.textContent = answer.learners;
        }
        Object.keys(syncs).forEach(function (kind) {
          var sync = syncs[kind];
          var status = section.querySelector('[data-kind="' + kind + '"]');
          if (status && status.textContent !== sync.text) status.textContent = sync.text;
          var button = section.querySelector("#sync-" + kind + " button");
          if (button) button.disabled = sync.busy;
          busy = busy || sync.busy;
        });
        if (busy) setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
