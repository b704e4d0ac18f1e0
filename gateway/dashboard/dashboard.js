// The dashboard's only script: sign-in (the token stays in this tab's sessionStorage), loading
// server-rendered fragments with the token as a Bearer header, and a few buttons that POST.
"use strict";

const KEY = "brickyard-token";
const token = () => sessionStorage.getItem(KEY);
const content = () => document.getElementById("content");
let refreshTimer = null;

function showSignIn(message) {
  document.getElementById("signin").hidden = false;
  document.getElementById("signout").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("signin-error").textContent = message || "";
  content().hidden = true;
}

async function call(method, url) {
  return fetch(url, {
    method,
    headers: { Authorization: "Bearer " + token(), Accept: "text/html, application/json" },
  });
}

async function errorText(response) {
  try {
    const body = await response.json();
    return (body.error && body.error.message) || (body.status && body.status.message) || response.statusText;
  } catch (_) {
    return response.statusText;
  }
}

// Only the dashboard's own fragments are fetched with the token, and only their HTML is
// inserted as HTML: a path of a link's making that resolves anywhere else is refused here.
function fragmentUrl(raw) {
  const url = new URL(raw, location.origin);
  if (url.origin !== location.origin || !url.pathname.startsWith("/dashboard/fragments/")) return null;
  return url;
}

function isFragment(response) {
  const type = response.headers.get("Content-Type") || "";
  const url = fragmentUrl(response.url);
  return type.startsWith("text/html") && url !== null;
}

async function load() {
  clearTimeout(refreshTimer);
  const main = content();
  const url = fragmentUrl(main.dataset.fragment);
  if (url === null) {
    main.textContent = "This page address is not one of the dashboard's.";
    return;
  }
  const response = await call("GET", url.href);
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    showSignIn("That token was refused: " + (await errorText(response)));
    return;
  }
  if (!response.ok) {
    main.innerHTML = "";
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = response.status + ": " + (await errorText(response));
    main.appendChild(p);
    return;
  }
  if (!isFragment(response)) {
    main.textContent = "Unexpected answer: not a dashboard fragment.";
    return;
  }
  const notice = document.getElementById("notice");
  main.innerHTML = await response.text();
  if (notice) main.prepend(notice);
  wire(main);
  const refresh = main.querySelector("[data-refresh]");
  if (refresh) refreshTimer = setTimeout(load, Number(refresh.dataset.refresh));
}

// The only calls a button may make; an id with a dot or a slash in it is refused.
const POSTS = [
  /^\/apollo\/status\/[^/.%]+\/retry$/,
  /^\/async\/cancel\/[^/.%]+$/,
  /^\/apollo\/status\/[^/.%]+\/failed\/\d+\/retry$/,
  /^\/apollo\/failures\/[0-9a-f]{16}\/retry$/,
];

// A download is fetched with the token and saved from a blob: a plain link would go without
// the token, and the token never goes into a URL. Only two kinds may be fetched: the dashboard's
// own fragments (failures) and a collection's Turtle export.
const TURTLE_EXPORT = /^\/apollo\/er\/ercollections\/[^/.%]+\/brick$/;

function downloadUrl(raw) {
  if (TURTLE_EXPORT.test(raw)) return new URL(raw, location.origin);
  return fragmentUrl(raw);
}

async function download(button) {
  const url = downloadUrl(button.dataset.download);
  if (url === null) return;
  const response = await call("GET", url.href);
  if (!response.ok) {
    showNotice(response.status + ": " + (await errorText(response)));
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await response.blob());
  a.download = button.dataset.filename || "download";
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function wireDownloads(root) {
  for (const button of root.querySelectorAll("[data-download]")) {
    if (downloadUrl(button.dataset.download) === null) {
      button.disabled = true;
      continue;
    }
    button.addEventListener("click", () => download(button));
  }
}

function wire(root) {
  wireDownloads(root);
  for (const button of root.querySelectorAll("[data-post]")) {
    if (!POSTS.some((shape) => shape.test(button.dataset.post))) {
      button.disabled = true;
      continue;
    }
    button.addEventListener("click", async () => {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      button.disabled = true;
      const response = await call("POST", button.dataset.post);
      let text = response.ok ? "Done." : response.status + ": " + (await errorText(response.clone()));
      if (response.ok) {
        const body = await response.json();
        const data = body.data || body;
        if (data.tracker) text = body.status.message + ". Follow it: ";
        else if (data.jobCanceling) text = "Cancel asked: the job stops at its next step.";
        else if (data.jobState) text = "Job " + data.jobState + ".";
        showNotice(text, data.tracker);
      } else {
        showNotice(text);
      }
      await load();
    });
  }
}

function showNotice(text, link) {
  let notice = document.getElementById("notice");
  if (!notice) {
    notice = document.createElement("p");
    notice.id = "notice";
    notice.setAttribute("role", "status");
  }
  notice.textContent = text;
  if (link) {
    const a = document.createElement("a");
    const url = new URL(link, location.href);
    a.href = "/dashboard/logs" + url.search;
    a.textContent = "status logs";
    notice.appendChild(a);
  }
  content().prepend(notice);
}

async function signedIn() {
  document.getElementById("signin").hidden = true;
  document.getElementById("signout").hidden = false;
  content().hidden = false;
  const who = await call("GET", "/dashboard/fragments/whoami");
  if (who.ok) document.getElementById("who").textContent = await who.text();
  await load();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("token").value.trim());
    document.getElementById("token").value = "";
    await signedIn();
  });
  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    showSignIn("Signed out.");
  });
  if (token()) signedIn();
  else showSignIn();
});
