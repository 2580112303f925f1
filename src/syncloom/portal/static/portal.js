// Small progressive helpers of our own: confirm destructive actions and select-all checkboxes.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches("input[data-select-all]")) { return; }
  document.querySelectorAll("input[name='" + box.getAttribute("data-select-all") + "']")
    .forEach(function (other) { other.checked = box.checked; });
});
