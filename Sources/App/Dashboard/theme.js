// Dark and light: "auto" follows the system (prefers-color-scheme); an explicit choice is
// remembered in localStorage (a display preference, nothing secret). The CSS does the rest
// through color-scheme and light-dark().

const KEY = "dashboard.theme";
const media = matchMedia("(prefers-color-scheme: dark)");

export function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  return chosen === "dark" || chosen === "light" ? chosen : media.matches ? "dark" : "light";
}

function apply(choice) {
  if (choice === "dark" || choice === "light") document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
  for (const button of document.querySelectorAll("[data-theme-choice]")) {
    button.setAttribute("aria-pressed", String(button.dataset.themeChoice === (choice || "auto")));
  }
  document.dispatchEvent(new CustomEvent("themechange", { detail: currentTheme() }));
}

export function setupTheme() {
  apply(localStorage.getItem(KEY));
  for (const button of document.querySelectorAll("[data-theme-choice]")) {
    button.addEventListener("click", () => {
      const choice = button.dataset.themeChoice;
      if (choice === "auto") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
      apply(choice);
    });
  }
  media.addEventListener("change", () => apply(localStorage.getItem(KEY)));
}
