% rebase('base.tpl')
<section class="page-head">
  <h1>Statistics</h1>
  <div class="toolbar">
    <span id="stats-updated" class="muted" aria-live="polite"></span>
    <button type="button" id="stats-refresh" class="btn">Refresh</button>
  </div>
</section>
<p id="stats-message" class="alert alert-error" role="alert" hidden></p>
<section class="cards" aria-label="Summary">
  <div class="card stat"><span class="stat-label">Visitors (total)</span><span class="stat-value" id="stat-total">–</span></div>
  <div class="card stat"><span class="stat-label">Visitors today</span><span class="stat-value" id="stat-today">–</span></div>
  <div class="card stat"><span class="stat-label">Viewers now</span><span class="stat-value" id="stat-now">–</span></div>
  <div class="card stat"><span class="stat-label">Most frequent emotion</span><span class="stat-value" id="stat-top">–</span></div>
  <div class="card stat"><span class="stat-label">Average duration</span><span class="stat-value" id="stat-duration">–</span></div>
</section>
<div class="stats-grid">
  <section class="card">
    <h2>Emotion shares</h2>
    <p class="muted small">Share of viewing time, all sessions.</p>
    <ul id="shares" class="bars"></ul>
  </section>
  <section class="card chart-card">
    <div class="card-head">
      <h2>Emotion shares over time</h2>
      <div class="segmented" role="group" aria-label="Period">
        <button type="button" class="seg active" id="range-day" data-range="day" aria-pressed="true">Today, per hour</button>
        <button type="button" class="seg" id="range-month" data-range="month" aria-pressed="false">30 days, per day</button>
      </div>
    </div>
    <div class="chart-box"><canvas id="chart-shares" role="img" aria-label="Emotion shares over time"></canvas></div>
  </section>
  <section class="card chart-card">
    <h2>Sessions per hour (today)</h2>
    <div class="chart-box"><canvas id="chart-sessions" role="img" aria-label="Sessions per hour today"></canvas></div>
  </section>
  <section class="card">
    <h2>Download sessions (CSV)</h2>
    <form method="get" action="/api/sessions.csv" class="form form-row" id="csv-form">
      <div class="field">
        <label for="csv-from">From</label>
        <input type="date" id="csv-from" name="from" required>
      </div>
      <div class="field">
        <label for="csv-to">To</label>
        <input type="date" id="csv-to" name="to" required>
      </div>
      <button type="submit" class="btn btn-primary">Download CSV</button>
    </form>
    <p class="muted small">Both days included; days are UTC dates, as in the file names.</p>
  </section>
</div>
