"use strict";
// Offline filters of the results matrix: only failing rows, one section, a text search. Headings
// stay visible while any case under them is.
(() => {
  const rows = Array.from(document.querySelectorAll("#results tr.case"));
  const headings = Array.from(document.querySelectorAll("#results tr.heading"));
  const onlyFailing = document.getElementById("only-failing");
  const section = document.getElementById("section");
  const search = document.getElementById("search");
  const shown = document.getElementById("shown");

  function apply() {
    const query = search.value.trim().toLowerCase();
    const groups = new Set();
    let count = 0;
    for (const row of rows) {
      const visible = (!onlyFailing.checked || row.dataset.failing === "true")
        && (!section.value || row.dataset.section === section.value)
        && (!query || row.dataset.search.includes(query));
      row.hidden = !visible;
      if (visible) {
        count += 1;
        groups.add(row.dataset.section);
        groups.add(row.dataset.group);
      }
    }
    for (const heading of headings) {
      heading.hidden = !groups.has(heading.dataset.group);
    }
    shown.textContent = count + " of " + rows.length + " cases";
  }

  onlyFailing.addEventListener("change", apply);
  section.addEventListener("change", apply);
  search.addEventListener("input", apply);
  apply();
})();
