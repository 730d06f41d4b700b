// "Add service line" / "Remove line" on the Beacon claim form, done in the browser.
// Rows are renumbered after a removal so the server always receives lines 0..n-1.
(function () {
  const form = document.querySelector("[data-claim-form]");
  if (!form) return;
  const body = form.querySelector("[data-lines]");
  const template = form.querySelector("[data-line-template]");
  const count = form.querySelector("[data-line-count]");

  function renumber() {
    const rows = Array.from(body.querySelectorAll("[data-line]"));
    rows.forEach(function (row, i) {
      row.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(/^line_\d+_/, "line_" + i + "_");
      });
      row.querySelectorAll("[id]").forEach(function (el) {
        const old = el.id;
        el.id = old.replace(/-\d+-/, "-" + i + "-");
        const label = row.querySelector('label[for="' + CSS.escape(old) + '"]');
        if (label) { label.htmlFor = el.id; label.textContent = label.textContent.replace(/Line \d+/, "Line " + (i + 1)); }
      });
      const remove = row.querySelector("[data-remove-line]");
      remove.textContent = "Remove line " + (i + 1);
      remove.hidden = rows.length === 1;
    });
    count.value = String(rows.length);
  }

  form.querySelector("[data-add-line]").addEventListener("click", function () {
    const n = body.querySelectorAll("[data-line]").length;
    const html = template.innerHTML.split("__N__").join(String(n)).split("__NUM__").join(String(n + 1));
    body.insertAdjacentHTML("beforeend", html);
    renumber();
    body.querySelectorAll("[data-line]")[n].querySelector("input, select").focus();
  });

  body.addEventListener("click", function (event) {
    const button = event.target.closest("[data-remove-line]");
    if (!button) return;
    button.closest("[data-line]").remove();
    renumber();
  });
  renumber();
})();
