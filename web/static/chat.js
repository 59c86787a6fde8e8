// 对话演示: the web chat of the console. Sends what the person does to /console/chat/send
// (words, a map click, a photo, a button) and shows the answers; polls the person's inbox
// for outbox messages (office cards, verification requests, alerts).
"use strict";
(function () {
  const root = document.getElementById("chat");
  if (!root) return;
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const text = document.getElementById("chat-text");
  const photo = document.getElementById("chat-photo");
  const mapEl = document.getElementById("chat-map");
  const player = root.dataset.as;
  let replies = 0;

  function scroll() { log.scrollTop = log.scrollHeight; }

  function buttonsOf(rows, messageId) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const row of rows || []) {
      const line = document.createElement("div");
      for (const b of row) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.label;
        button.dataset.data = b.data;
        button.addEventListener("click", () =>
          send({ kind: "press", data: b.data, message_id: messageId }));
        line.appendChild(button);
      }
      box.appendChild(line);
    }
    return box;
  }

  function fill(el, m) {
    el.replaceChildren();
    if (m.photo) {
      const img = document.createElement("img");
      img.src = m.photo;
      img.alt = "";
      el.appendChild(img);
    }
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = m.text;
    el.appendChild(body);
    el.appendChild(buttonsOf(m.buttons, el.dataset.id));
  }

  function show(m, who) {
    const el = document.createElement("div");
    el.className = "msg " + who;
    el.dataset.id = m.id || "";
    fill(el, m);
    log.appendChild(el);
    scroll();
    return el;
  }

  function find(id) {
    return Array.from(log.querySelectorAll(".msg")).find((el) => el.dataset.id === id);
  }

  function edit(a) {
    const el = find(a.message_id);
    if (!el) return;
    if (a.text === null) {
      el.querySelector(".buttons").replaceWith(buttonsOf(a.buttons, a.message_id));
    } else {
      fill(el, { text: a.text, buttons: a.buttons });
    }
  }

  function answer(a) {
    if (a.type === "reply") {
      replies += 1;
      show({ id: "r" + replies, text: a.text, buttons: a.buttons }, "bot");
      mapEl.classList.toggle("asking", !!a.ask_location);
      if (a.ask_location) show({ text: root.dataset.locationHint }, "toast");
    } else if (a.type === "toast") {
      if (a.text) show({ text: a.text }, "toast");
    } else if (a.type === "edit") {
      edit(a);
    }
  }

  async function send(fields, file) {
    const body = new FormData();
    body.append("csrf_token", root.dataset.csrf);
    body.append("as", player);
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    if (file) body.append("photo", file);
    const response = await fetch("/console/chat/send", {
      method: "POST", body, credentials: "same-origin",
    });
    const result = await response.json().catch(() => ({ error: response.statusText }));
    if (result.error) show({ text: result.error }, "toast");
    for (const a of result.answers || []) answer(a);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const words = text.value.trim();
    if (!words) return;
    show({ text: words }, "me");
    text.value = "";
    send({ kind: "text", text: words });
  });

  photo.addEventListener("change", () => {
    const file = photo.files[0];
    if (!file) return;
    show({ text: "🖼 " + file.name }, "me");
    send({ kind: "photo" }, file);
    photo.value = "";
  });

  const picker = document.querySelector("#play-as select");
  if (picker) picker.addEventListener("change", () => picker.form.submit());

  async function poll() {
    try {
      const response = await fetch("/console/chat/inbox?as=" + encodeURIComponent(player), {
        credentials: "same-origin",
      });
      if (response.ok) {
        for (const m of (await response.json()).messages) {
          const old = find(m.id);
          if (old) fill(old, m);
          else show(m, "bot card");
        }
      }
    } finally {
      setTimeout(poll, 2000);
    }
  }
  poll();

  if (typeof L === "undefined") return;
  const map = L.map(mapEl);
  window.gridgovChat = { map };
  map.setView([30.5, 120.0], 12);
  fetch("/console/grids.geojson", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((grids) => {
      if (grids && grids.features && grids.features.length) {
        const layer = L.geoJSON(grids, {
          style: { color: "#5a6f8c", weight: 1, fillColor: "#dde6f0", fillOpacity: 0.35 },
          onEachFeature: (f, l) => l.bindTooltip(f.properties.name, { sticky: true }),
        }).addTo(map);
        map.fitBounds(layer.getBounds());
      }
      mapEl.dataset.ready = "1";
    });
  map.on("click", (event) => {
    const lat = event.latlng.lat.toFixed(6);
    const lon = event.latlng.lng.toFixed(6);
    show({ text: "📍 " + lat + ", " + lon }, "me");
    send({ kind: "location", lon, lat });
  });
})();
