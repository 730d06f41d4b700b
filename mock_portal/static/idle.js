// "Are you still there?" warning before the idle timeout, then a hard sign-out.
// The server also ends idle sessions on its own; this is the visible part real portals show.
(function () {
  const body = document.body;
  const timeout = Number(body.dataset.idleTimeout || 0);
  const warning = Number(body.dataset.idleWarning || 0);
  const modal = document.querySelector("[data-testid=idle-modal]");
  if (!timeout || !modal || window.top !== window) return;
  const countdown = modal.querySelector("[data-idle-countdown]");
  let warnTimer = null;
  let tick = null;

  function signOut() {
    window.location.href = body.dataset.logoutUrl;
  }

  function showWarning() {
    let left = Math.min(warning, timeout);
    countdown.textContent = String(left);
    modal.hidden = false;
    modal.querySelector("[data-idle-stay]").focus();
    tick = setInterval(function () {
      left -= 1;
      countdown.textContent = String(Math.max(left, 0));
      if (left <= 0) { clearInterval(tick); signOut(); }
    }, 1000);
  }

  function arm() {
    clearTimeout(warnTimer);
    clearInterval(tick);
    modal.hidden = true;
    warnTimer = setTimeout(showWarning, Math.max(timeout - warning, 0) * 1000);
  }

  modal.querySelector("[data-idle-stay]").addEventListener("click", function () {
    fetch(body.dataset.keepaliveUrl, { method: "POST", credentials: "same-origin" }).then(function (r) {
      if (r.ok) { arm(); } else { signOut(); }
    }, signOut);
  });
  modal.querySelector("[data-idle-leave]").addEventListener("click", signOut);
  // Pages inside a workflow iframe report activity: the server saw a request, so re-arm.
  window.addEventListener("message", function (event) {
    if (event.origin === window.location.origin && event.data === "mock-portal-activity") arm();
  });
  arm();
})();
