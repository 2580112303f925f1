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
document.addEventListener("change", function (event) {
  // A field picker fills the text box it names; the box stays editable for dotted paths.
  var picker = event.target;
  if (!picker.matches("select[data-fills]") || !picker.value) { return; }
  var box = document.getElementById(picker.getAttribute("data-fills"));
  if (box) { box.value = picker.value; box.dispatchEvent(new Event("input", { bubbles: true })); }
});
