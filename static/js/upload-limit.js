// Files over the upload limit are refused before they are sent: the form keeps its choices
// and says the limit (the server would refuse the whole body unread).
document.addEventListener("submit", function (event) {
  const input = event.target.querySelector && event.target.querySelector("input[type=file][data-max-bytes]");
  if (!input || !input.files) return;
  const limit = Number(input.dataset.maxBytes);
  const total = Array.from(input.files).reduce(function (sum, file) { return sum + file.size; }, 0);
  const field = input.closest(".field");
  const old = field && field.querySelector("p.error[data-limit]");
  if (old) old.remove();
  if (total <= limit) return;
  event.preventDefault();
  const said = document.createElement("p");
  said.className = "error";
  said.setAttribute("role", "alert");
  said.dataset.limit = "";
  const mb = function (bytes) { return Math.round(bytes / 1048576); };
  said.textContent = (input.dataset.tooLarge || "{total} MB chosen; the limit is {limit} MB in all.")
    .replace("{total}", mb(total)).replace("{limit}", mb(limit));
  if (field) { field.classList.add("has-error"); field.appendChild(said); }
});
