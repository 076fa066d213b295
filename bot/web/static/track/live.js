// The recipient's page, live. The server sends the page's data whenever the day changes
// (/t/{token}/live, server-sent events); this puts the new words in place. Without this script the
// page shows the same after a refresh.
(() => {
  "use strict";
  const section = document.querySelector("[data-feed]");
  if (!section || !window.EventSource) return;
  const status = section.dataset.statusCode;
  const show = (selector, text) => {
    const element = section.querySelector(selector);
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  };
  const source = new EventSource(section.dataset.feed);
  source.onmessage = (message) => {
    const feed = JSON.parse(message.data);
    if (feed.status !== status) {
      // What the recipient can do changes with the status (a rating once delivered): the whole page.
      source.close();
      window.location.reload();
      return;
    }
    show("[data-window]", feed.window.text);
    show("[data-status]", feed.status_text);
    show("[data-live]", feed.live && feed.live.text);
    show("[data-stops]", feed.stops_text);
    section.querySelector("[data-van]").hidden = !feed.van;
    document.dispatchEvent(new CustomEvent("doorstep:feed", { detail: feed }));
  };
  source.addEventListener("gone", () => {
    source.close();
    window.location.reload();
  });
})();
