// On a narrow screen the menu folds behind its button.
document.addEventListener("click", function (event) {
  const button = event.target.closest && event.target.closest(".menu-toggle");
  if (!button) return;
  const open = button.closest(".topbar").classList.toggle("open");
  button.setAttribute("aria-expanded", open ? "true" : "false");
});
