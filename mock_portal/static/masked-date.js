// A masked MM/DD/YYYY input, as many payer portals have. It builds its value from keystrokes
// only: anything that changes the value without a key press (paste, autofill, a script setting
// the value and firing "input" as Playwright's fill() does) is undone.
(function () {
  function format(digits) {
    let out = digits.slice(0, 2);
    if (digits.length > 2) out += "/" + digits.slice(2, 4);
    if (digits.length > 4) out += "/" + digits.slice(4, 8);
    return out;
  }
  document.querySelectorAll("input[data-mask=date]").forEach(function (input) {
    let digits = input.value.replace(/\D/g, "").slice(0, 8);
    input.value = format(digits);
    input.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) {
        if (event.key === "v") event.preventDefault();
        return;
      }
      if (/^\d$/.test(event.key)) {
        event.preventDefault();
        if (digits.length < 8) digits += event.key;
      } else if (event.key === "Backspace") {
        event.preventDefault();
        digits = digits.slice(0, -1);
      } else if (event.key === "/" || event.key.length === 1) {
        event.preventDefault();
        return;
      } else {
        return;  // Tab, arrows, Enter...
      }
      input.value = format(digits);
    });
    input.addEventListener("paste", function (event) { event.preventDefault(); });
    input.addEventListener("drop", function (event) { event.preventDefault(); });
    input.addEventListener("input", function () { input.value = format(digits); });
  });
})();
