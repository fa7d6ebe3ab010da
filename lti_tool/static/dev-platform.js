// The platform side of LTI client-side postMessage storage (lti.put_data / lti.get_data),
// as an LMS page provides it to the tool in its iframe.
(function () {
  "use strict";
  var toolOrigin = document.getElementById("dev-platform").dataset.toolOrigin;
  var store = {};
  window.addEventListener("message", function (event) {
    var message = event.data || {};
    if (event.origin !== toolOrigin || !event.source) { return; }
    var key = String(message.key || "");
    if (message.subject === "lti.put_data") {
      store[key] = message.value;
      event.source.postMessage({subject: "lti.put_data.response", message_id: message.message_id,
                                key: key, value: message.value}, event.origin);
    } else if (message.subject === "lti.get_data") {
      event.source.postMessage({subject: "lti.get_data.response", message_id: message.message_id,
                                key: key, value: store[key]}, event.origin);
    }
  });
})();
