// Clicking an appearance (or a face track) plays the video from its start; while the video plays (or wherever it
// is sought to), the appearances and people on screen at that moment are highlighted.
(function () {
  "use strict";
  const video = document.getElementById("video");
  const timeline = document.getElementById("timeline");
  const length = Number(timeline.dataset.length);
  const playhead = document.getElementById("playhead");
  const now = document.getElementById("now");
  const segments = Array.from(document.querySelectorAll(".segment[data-start]"));
  const cards = new Map(Array.from(document.querySelectorAll(".identity")).map(c => [c.dataset.name, c]));

  function show(time) {
    const names = new Set();
    for (const segment of segments) {
      const on = Number(segment.dataset.start) <= time && time < Number(segment.dataset.end);
      segment.classList.toggle("on", on);
      if (on) names.add(segment.closest(".row").dataset.name);
    }
    for (const [name, card] of cards) card.classList.toggle("on", names.has(name));
    now.textContent = names.size ? Array.from(names).join(", ") : "Nobody we counted.";
    if (length > 0) {
      const track = timeline.querySelector(".track");
      const left = track ? track.offsetLeft : 0;
      const width = track ? track.offsetWidth : timeline.offsetWidth;
      playhead.style.left = (left + width * Math.min(time / length, 1)) + "px";
      playhead.style.display = "block";
    }
  }

  // An appearance on the timeline, or a face track of someone's card.
  document.addEventListener("click", event => {
    const segment = event.target.closest(".segment[data-start], .seek[data-start]");
    if (!segment) return;
    const start = Number(segment.dataset.start);
    video.currentTime = start;
    // A browser may refuse to play without a user gesture, or the video may be missing: the
    // highlight still shows who is on screen then.
    const playing = video.play();
    if (playing) playing.catch(() => {});
    show(start);
  });
  video.addEventListener("timeupdate", () => show(video.currentTime));
  video.addEventListener("seeked", () => show(video.currentTime));
  video.addEventListener("error", () => { document.getElementById("missing").hidden = false; });
})();
