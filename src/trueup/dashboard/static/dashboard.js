// Progressive enhancement: act on a finding without reloading the page. Without this file every
// form posts and the page comes back, so nothing depends on it.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-inplace")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  if (button) button.disabled = true;
  const body = new FormData(form);
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": body.get("csrf") || "" },
      credentials: "same-origin",
    });
    const panel = document.getElementById("finding-state");
    if (panel && response.headers.get("content-type")?.startsWith("text/html")) {
      panel.outerHTML = await response.text();
      document.getElementById("finding-state")?.focus();
    } else {
      window.location.reload();
    }
  } catch {
    form.submit(); // the network failed: fall back to a plain post
  }
});
