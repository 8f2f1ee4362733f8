// A checkbox marked data-select-all="<name>" chooses or clears every checkbox of that name in
// its form, and shows whether all, some or none of them are chosen.
(function () {
  function boxes(form, name) {
    return Array.from(form.querySelectorAll('input[type="checkbox"]')).filter(
      (box) => box.name === name
    );
  }

  function reflect(all) {
    const chosen = boxes(all.form, all.dataset.selectAll).filter((box) => box.checked).length;
    const total = boxes(all.form, all.dataset.selectAll).length;
    all.checked = total > 0 && chosen === total;
    all.indeterminate = chosen > 0 && chosen < total;
  }

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.form) return;
    if (box.dataset.selectAll) {
      boxes(box.form, box.dataset.selectAll).forEach((each) => (each.checked = box.checked));
      return;
    }
    box.form.querySelectorAll("[data-select-all]").forEach((all) => {
      if (all.dataset.selectAll === box.name) reflect(all);
    });
  });
})();
