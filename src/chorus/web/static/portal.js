/* Leave quickly: replace this page in the history, so "back" does not return to it. */
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const exit = document.getElementById('quick-exit');
  if (!exit) return;
  exit.addEventListener('click', (event) => {
    event.preventDefault();
    window.location.replace(exit.href);
  });
});
