/// The dashboard's stylesheet and script, inside the binary: nothing is fetched from
/// elsewhere, so the page works on a host without internet and under a strict content
/// security policy (`default-src 'self'`).
enum DashboardAssets {
    static let css = """
        :root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6e6e73; --line: #d2d2d7; --bg: #fff; --card: #f5f5f7;
                --ok: #2e7d32; --warn: #b26a00; --bad: #c62828; }
        @media (prefers-color-scheme: dark) {
          :root { --fg: #f5f5f7; --muted: #a1a1a6; --line: #3a3a3c; --bg: #1c1c1e; --card: #2c2c2e; }
        }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; padding: .75rem 1rem;
                 border-bottom: 1px solid var(--line); }
        header h1 { font-size: 1.1rem; margin: 0; }
        header a { color: inherit; text-decoration: none; }
        .muted, .empty { color: var(--muted); }
        main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
        section { margin-bottom: 1.75rem; }
        h2 { font-size: 1rem; margin: 0 0 .5rem; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .75rem; }
        .card { background: var(--card); border-radius: .5rem; padding: .6rem .8rem; }
        .card .label { color: var(--muted); font-size: .8rem; }
        .card .value { font-size: 1.05rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; font-size: .85rem; }
        td.n, th.n { text-align: right; }
        code { font-size: .85em; overflow-wrap: anywhere; }
        td code { overflow-wrap: normal; white-space: nowrap; }
        .ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
        .warnings li { color: var(--warn); }
        .chart { width: 100%; height: auto; max-height: 16rem; }
        .legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; list-style: none; font-size: .85rem; }
        .legend svg { vertical-align: middle; }
        #connection { display: none; padding: .5rem 1rem; background: var(--warn); color: #fff; }
        #connection.shown { display: block; }
        @media (max-width: 40rem) { main { padding: .6rem; } th, td { padding: .25rem .3rem; } }
        """

    /// Refreshes the page's `<main>` from the server every few seconds (the server renders
    /// it, so the script only swaps it), and says so when the server does not answer.
    static let javascript = """
        "use strict";
        (function () {
          const main = document.getElementById("live");
          const banner = document.getElementById("connection");
          const stamp = document.getElementById("updated");
          if (!main) { return; }
          const seconds = Number(main.dataset.refresh || "5");
          async function refresh() {
            try {
              const response = await fetch(window.location.href, { headers: { "X-Daybook-Fragment": "1" }, cache: "no-store" });
              const text = await response.text();
              main.innerHTML = text;
              const failing = !response.ok;
              banner.classList.toggle("shown", failing);
              banner.textContent = failing ? "Daybook answers, but cannot read the sink: retrying" : "";
              if (stamp) { stamp.textContent = "updated " + new Date().toLocaleTimeString(); }
            } catch (error) {
              banner.classList.add("shown");
              banner.textContent = "Cannot reach Daybook: retrying";
            }
          }
          window.setInterval(refresh, seconds * 1000);
        })();
        """
}
