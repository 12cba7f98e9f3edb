% rebase('base.tpl')
<section class="page-head">
  <h1>Settings</h1>
</section>
<form id="settings-form" class="form" novalidate>
  <section class="card">
    <h2>Sessions</h2>
    <p class="muted small">A viewer session starts when a face has been followed long enough and ends when it has been gone for the absence timeout.</p>
    <div class="form-grid">
      <div class="field">
        <label for="set-min-dwell">Minimum dwell (s)</label>
        <input type="number" id="set-min-dwell" data-section="sessions" name="min_dwell_s" min="0" max="600" step="0.1" required>
        <p class="hint">Shorter looks are not counted as a visitor.</p>
        <p class="field-error" id="err-sessions-min_dwell_s" hidden></p>
      </div>
      <div class="field">
        <label for="set-absence">Absence timeout (s)</label>
        <input type="number" id="set-absence" data-section="sessions" name="absence_timeout_s" min="0.1" max="600" step="0.1" required>
        <p class="hint">How long a face may be lost before its session ends.</p>
        <p class="field-error" id="err-sessions-absence_timeout_s" hidden></p>
      </div>
      <div class="field">
        <label for="set-min-frames">Minimum frames</label>
        <input type="number" id="set-min-frames" data-section="sessions" name="min_frames" min="1" max="10000" step="1" required>
        <p class="hint">Frames with a classified face a session needs.</p>
        <p class="field-error" id="err-sessions-min_frames" hidden></p>
      </div>
    </div>
  </section>
  <section class="card">
    <h2>Storage</h2>
    <div class="form-grid">
      <div class="field">
        <label for="set-retention">Keep sessions for (days)</label>
        <input type="number" id="set-retention" data-section="storage" name="retention_days" min="1" max="36500" step="1" required>
        <p class="hint">Older sessions are deleted automatically.</p>
        <p class="field-error" id="err-storage-retention_days" hidden></p>
      </div>
    </div>
  </section>
  <section class="card">
    <h2>MQTT / Home Assistant <span class="badge state-disabled">coming</span></h2>
    <p class="muted small">Coming in a later version: these fields cannot be changed from the web UI yet.</p>
    <fieldset disabled class="form-grid">
      <div class="field">
        <label for="set-mqtt-host">Broker host</label>
        <input type="text" id="set-mqtt-host" name="mqtt_host" placeholder="homeassistant.local">
      </div>
      <div class="field">
        <label for="set-mqtt-port">Port</label>
        <input type="number" id="set-mqtt-port" name="mqtt_port" placeholder="1883">
      </div>
      <div class="field">
        <label for="set-mqtt-user">User name</label>
        <input type="text" id="set-mqtt-user" name="mqtt_username" autocomplete="off">
      </div>
      <div class="field">
        <label for="set-mqtt-password">Password</label>
        <input type="password" id="set-mqtt-password" name="mqtt_password" autocomplete="new-password">
      </div>
      <div class="field">
        <label for="set-mqtt-topic">Base topic</label>
        <input type="text" id="set-mqtt-topic" name="mqtt_base_topic" placeholder="affectra">
      </div>
      <div class="field field-check">
        <label><input type="checkbox" name="mqtt_tls"> Use TLS</label>
      </div>
    </fieldset>
  </section>
  <div class="actions">
    <button type="submit" class="btn btn-primary" id="settings-save">Save</button>
    <span id="settings-result" class="muted" role="status"></span>
  </div>
  <p class="field-error form-error" id="err-form" hidden></p>
</form>
