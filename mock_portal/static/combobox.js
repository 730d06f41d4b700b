// Payer typeahead: an ARIA 1.2 combobox with a listbox popup filled by an async fetch.
// Typing clears the chosen payer; only picking an option (click, or arrows + Enter) sets it.
(function () {
  document.querySelectorAll("[data-combobox]").forEach(function (root) {
    const input = root.querySelector("[role=combobox]");
    const hidden = root.querySelector("input[type=hidden]");
    const listbox = root.querySelector("[role=listbox]");
    let active = -1;
    let timer = null;
    let request = 0;

    function options() { return Array.from(listbox.querySelectorAll("[role=option]")); }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const opts = options();
      if (!opts.length) return;
      active = (index + opts.length) % opts.length;
      opts.forEach(function (opt, i) { opt.setAttribute("aria-selected", String(i === active)); });
      input.setAttribute("aria-activedescendant", opts[active].id);
    }

    function choose(option) {
      input.value = option.dataset.name;
      hidden.value = option.dataset.value;
      close();
    }

    function render(items) {
      listbox.innerHTML = "";
      items.forEach(function (item, i) {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = listbox.id + "-opt-" + i;
        li.dataset.value = item.id;
        li.dataset.name = item.name;
        li.setAttribute("aria-selected", "false");
        li.textContent = item.name;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(li); });
        listbox.appendChild(li);
      });
      if (!items.length) {
        const empty = document.createElement("li");
        empty.textContent = "No matching payers";
        empty.setAttribute("aria-disabled", "true");
        listbox.appendChild(empty);
      }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search() {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        const mine = ++request;
        fetch(input.dataset.source + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) { if (mine === request) render(items); });
      }, 150);
    }

    input.addEventListener("input", function () { hidden.value = ""; search(); });
    // Typed before this script ran (slow network)? Catch up instead of ignoring it.
    if (document.activeElement === input && input.value && !hidden.value) search();

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); if (!listbox.hidden) highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); if (!listbox.hidden) highlight(active - 1); }
      else if (event.key === "Enter" && !listbox.hidden && active >= 0) { event.preventDefault(); choose(options()[active]); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", close);
  });
})();
