// Progressive enhancement: act on a finding without reloading the page. Without this file every
// form posts and the page comes back, so nothing depends on it.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-inplace")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  const body = new FormData(form);
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": body.get("csrf") || "" },
      credentials: "same-origin",
    });
  } catch {
    form.submit(); // the network failed: fall back to a plain post
    return;
  }
  if (response.redirected) {
    // The session ended: the sign-in page, and then back to this page (not to the action's address,
    // which only takes posts).
    const target = new URL(response.url);
    if (target.pathname === "/login") target.searchParams.set("next", location.pathname + location.search);
    window.location.assign(target.href);
    return;
  }
  const html = response.headers.get("content-type")?.startsWith("text/html") ? await response.text() : "";
  const panel = document.getElementById("finding-state");
  // 200 is the new panel, 409 the same panel with what the finding could not do.
  if (panel && html && (response.ok || response.status === 409)) {
    panel.outerHTML = html;
    document.getElementById("finding-state")?.focus();
    return;
  }
  // Anything else is a whole page (refused, not found, an error): show its message in the panel.
  const said = html ? new DOMParser().parseFromString(html, "text/html").querySelector(".alert") : null;
  const alert = document.createElement("p");
  alert.className = "alert";
  alert.setAttribute("role", "alert");
  alert.textContent = said?.textContent || `The server answered ${response.status}: reload the page and try again.`;
  panel?.querySelector(".alert")?.remove();
  panel?.prepend(alert);
  if (button) button.disabled = false;
});
