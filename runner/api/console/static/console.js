// sopwright console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Live regions: while tasks run, re-fetch this page and swap the [data-live] parts by id.
  var REFRESH_MS = 3000;
  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return true;
    return region.querySelector("details[open]") !== null;
  }
  function refresh() {
    var regions = document.querySelectorAll('[data-live="on"]');
    if (!regions.length) return;
    if (document.hidden) { setTimeout(refresh, REFRESH_MS); return; }
    fetch(location.href, { credentials: "same-origin", headers: { "X-Console-Refresh": "1" } })
      .then(function (r) { if (!r.ok || r.redirected) throw new Error("refresh " + r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var anyLive = false;
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var fresh = region.id && doc.getElementById(region.id);
          if (!fresh) return;
          if (fresh.getAttribute("data-live") === "on") anyLive = true;
          if (!busy(region)) { region.replaceWith(document.importNode(fresh, true)); }
        });
        // Navigation counters follow too.
        var nav = document.querySelector("header.top nav"), freshNav = doc.querySelector("header.top nav");
        if (nav && freshNav) nav.replaceWith(document.importNode(freshNav, true));
        if (anyLive) setTimeout(refresh, REFRESH_MS);
      })
      .catch(function () { setTimeout(refresh, REFRESH_MS * 3); });
  }

  // Screenshots open large in a dialog (Esc or the × closes it); the link still works without JS.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-enlarge]");
    var dialog = document.getElementById("enlarge");
    if (!link || !dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    var img = dialog.querySelector("img");
    img.src = link.href;
    img.alt = (link.querySelector("img") || {}).alt || "Screenshot";
    dialog.showModal();
  });
  document.addEventListener("click", function (event) {
    var dialog = event.target;
    if (dialog && dialog.id === "enlarge" && dialog.tagName === "DIALOG") dialog.close();
  });

  // Buttons that destroy something ask first.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });

  // New task: show the field hints of the chosen type.
  function showHints(select) {
    document.querySelectorAll("[data-hints-for]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-hints-for") !== select.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-hints]")) showHints(event.target);
  });

  // Keyboard: "/" focuses the search box; "g" then t / i / r / n goes to a page.
  var pending = false;
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toUpperCase();
    if (event.ctrlKey || event.metaKey || event.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(tag) || event.target.isContentEditable) return;
    if (event.key === "/") {
      var search = document.querySelector("[data-search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (pending) {
      pending = false;
      var link = document.querySelector('header.top nav a[data-key="' + event.key + '"]');
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    if (event.key === "g") { pending = true; setTimeout(function () { pending = false; }, 1500); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("select[data-hints]");
    if (select) showHints(select);
    if (document.querySelector('[data-live="on"]')) setTimeout(refresh, REFRESH_MS);
  });
})();
