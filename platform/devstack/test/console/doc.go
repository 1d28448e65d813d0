// Package console checks queue-manager's web console in a real browser
// (Debian's chromium, driven by chromedp) against the local stack: a
// workflow created through the form (load, store, graph, train) runs to
// finished on its page with its training curve and graph drawn, the Data
// page counts its collection and shows its day present, and the market page
// shows a live stream started and stopped from it. The tests carry the
// integration build tag.
package console
