// Plays each shell recording of a session page with asciinema-player.
document.querySelectorAll(".cast[data-src]").forEach((element) => {
  AsciinemaPlayer.create(element.dataset.src, element, { fit: "width", rows: 24 });
});
