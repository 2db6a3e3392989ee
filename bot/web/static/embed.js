// "Copy the snippet" on /embed.
(() => {
  "use strict";
  const button = document.getElementById("copy");
  const status = document.getElementById("copy-status");
  if (!button || !status) return;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.target).textContent;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Copied.";
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(button.dataset.target));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
    }
  });
})();
