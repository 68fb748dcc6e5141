// Fields marked data-select-on-focus select their whole text when focused (for copying).
// A file of its own: the Content-Security-Policy allows no inline script or handler.
document.addEventListener("focusin", function (event) {
  var field = event.target;
  if (field && field.hasAttribute && field.hasAttribute("data-select-on-focus")) {
    field.select();
  }
});
