// The Copy button of a page (the authorization code, the MCP URL): without JavaScript the field is still selectable.
document.getElementById('copy')?.addEventListener('click', async (event) => {
  const button = event.currentTarget;
  const field = document.getElementById(button.dataset.target);
  const status = document.getElementById('copy-status');
  try {
    await navigator.clipboard.writeText(field.value);
    status.textContent = 'Copied.';
  } catch {
    field.select();
    status.textContent = 'Press Ctrl+C (or Cmd+C) to copy.';
  }
});
