// LTI client-side postMessage storage (lti.put_data / lti.get_data): keeps the login state in
// the platform's own window, so launches work where third-party cookies are blocked.
(function () {
  "use strict";
  var page = document.getElementById("lti-storage");
  if (!page) { return; }
  var data = page.dataset;
  var platform = data.storageTarget === "_parent" ? window.parent
    : (window.parent.frames[data.storageTarget] || window.parent);
  var messageId = "vm-" + Math.random().toString(36).slice(2);
  var finished = false;

  function fail() {
    if (finished) { return; }
    finished = true;
    document.getElementById("storage-failed").hidden = false;
    document.getElementById("storage-working").hidden = true;
  }

  function send(message) {
    message.message_id = messageId;
    platform.postMessage(message, data.platformOrigin);
  }

  window.addEventListener("message", function (event) {
    var reply = event.data || {};
    if (event.origin !== data.platformOrigin || reply.message_id !== messageId) { return; }
    if (reply.error) { fail(); return; }
    if (reply.subject === "lti.put_data.response") {
      finished = true;
      window.location.href = data.next;
    } else if (reply.subject === "lti.get_data.response") {
      finished = true;
      var form = document.getElementById("complete");
      form.elements.state.value = reply.value || "";
      form.submit();
    }
  });

  if (data.action === "put") {
    send({subject: "lti.put_data", key: "state_" + data.state, value: data.state});
  } else {
    send({subject: "lti.get_data", key: "state_" + data.state});
  }
  window.setTimeout(fail, 5000);
})();
