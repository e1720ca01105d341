// Adds to the cart without leaving the product page. The form still works without this script:
// it posts to /cart/add/ and the server redirects. A same-site script sends the CSRF token in the
// X-CSRFToken header, read from the `csrftoken` cookie (Django's recommended way), falling back
// to the form's own hidden field.
"use strict";

function csrfToken(form) {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : form.elements.csrfmiddlewaretoken.value;
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches("form.add-to-cart[data-api]")) return;
  event.preventDefault();
  const status = form.querySelector(".cart-status");
  const product = Number(form.elements.product.value);
  const wanted = Number(form.elements.quantity.value);
  try {
    const headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) };
    // What the cart holds already: the API sets a line's quantity.
    const current = await (await fetch(form.dataset.api, { credentials: "same-origin" })).json();
    const line = current.lines.find((l) => l.product === product);
    const quantity = (line ? line.quantity : 0) + wanted;
    const response = await fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers,
      body: JSON.stringify({ product, quantity }),
    });
    if (!response.ok) throw new Error(`the cart answered ${response.status}`);
    const cart = await response.json();
    status.textContent = `${cart.message} In your cart: ${cart.count} tins, ${cart.total} in all.`;
    const link = document.querySelector("nav a.cart");
    if (link) link.textContent = `Cart (${cart.count})`;
  } catch (error) {
    status.textContent = "Could not add to the cart; sending the form instead.";
    form.submit();
  }
});
