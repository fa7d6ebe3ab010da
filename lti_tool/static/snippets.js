// The reply box's saved snippets: choosing one puts it into the reply at once (after what is
// written, a blank line between, as the server's "Insert snippet" does). Choosing another
// while the reply is unchanged swaps it, so browsing the list with the arrow keys does not
// pile snippets up. The "Insert snippet" button is then not needed.
(function () {
  "use strict";
  var select = document.querySelector("select[data-snippets]");
  if (!select) return;
  var reply = document.getElementById(select.dataset.snippets);
  var status = document.querySelector("[data-snippet-status]");
  var insert = document.querySelector("[data-snippet-insert]");
  if (!reply) return;
  if (insert) insert.hidden = true;
  var before = null, after = null;
  select.addEventListener("change", function () {
    if (after === null || reply.value !== after) before = reply.value;
    var option = select.options[select.selectedIndex];
    var body = option && option.value ? option.dataset.body || "" : "";
    var kept = before.replace(/\s+$/, "");
    reply.value = body ? (kept ? kept + "\n\n" + body : body) : before;
    after = reply.value;
    // The sentence comes from the page, in its language; {title} stands for the snippet's.
    var said = (status && status.dataset.inserted) || "Inserted “{title}” into your reply.";
    if (status) status.textContent = body ? said.replace("{title}", option.text) : "";
  });
})();
