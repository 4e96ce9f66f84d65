/// The console's one stylesheet and one script, served from memory (`/console.css`, `/console.js`).
enum ConsoleAssets {
    static let css = """
        :root { font-family: system-ui, sans-serif; color: #0f172a; background: #fff; }
        body { margin: 0; }
        header { background: #0f172a; color: #f8fafc; padding: .6rem 1.2rem; font-size: 1.1rem; }
        nav { display: flex; gap: 1.2rem; align-items: center; padding: .5rem 1.2rem; border-bottom: 1px solid #e2e8f0; }
        nav a { color: #1e3a8a; text-decoration: none; }
        nav a[aria-current="page"] { font-weight: 600; border-bottom: 2px solid #2563eb; }
        nav .logout { margin-left: auto; }
        main { padding: 1rem 1.2rem 2rem; max-width: 80rem; }
        h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.2rem 0 .5rem; }
        h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
        table { border-collapse: collapse; margin: .4rem 0; }
        th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
        td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
        .id, .url, code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
        .id { white-space: nowrap; }
        .url { word-break: break-all; }
        pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: .8rem; overflow-x: auto; white-space: pre-wrap; }
        .error { color: #991b1b; background: #fef2f2; border: 1px solid #fecaca; padding: .4rem .6rem; }
        tr.stuck td { background: #fffbeb; color: #92400e; }
        .columns { display: flex; flex-wrap: wrap; gap: 2.5rem; }
        .figures { display: flex; flex-wrap: wrap; gap: 1.5rem; margin: 0; }
        .figures div { min-width: 7rem; }
        .figures dt { font-size: .8rem; color: #475569; }
        .figures dd { margin: 0; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
        .facts div { display: contents; }
        .facts dt { color: #475569; }
        .facts dd { margin: 0; }
        .graphs { display: flex; flex-wrap: wrap; gap: 1.5rem; }
        .graph { margin: 0; }
        .graph figcaption { font-size: .85rem; margin-bottom: .2rem; }
        .filter { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; margin-bottom: .8rem; }
        .filter label { display: flex; flex-direction: column; font-size: .8rem; color: #475569; }
        .bulk, .actions, #selected { margin: .6rem 0; }
        button { font: inherit; padding: .25rem .7rem; border: 1px solid #94a3b8; background: #f1f5f9; border-radius: 4px; cursor: pointer; }
        button.danger { border-color: #dc2626; color: #991b1b; }
        .pages { display: flex; gap: 1rem; }
        """

    /// Refreshes the overview's live part every few seconds; without it the page is the same, just static.
    static let script = """
        "use strict";
        (function () {
          const live = document.getElementById("live");
          if (!live) return;
          const seconds = Number(live.dataset.refresh || "5");
          setInterval(async function () {
            try {
              const response = await fetch("/?fragment=1", { credentials: "same-origin", cache: "no-store" });
              if (response.ok) live.innerHTML = await response.text();
            } catch (e) { /* the next tick tries again */ }
          }, seconds * 1000);
        })();
        """
}
