% rebase('base.tpl')
<section class="page-head">
  <h1>Cameras</h1>
</section>
<p id="cameras-message" class="alert" role="status" hidden></p>
<section class="card">
  <div class="table-wrap">
    <table class="table" id="cameras-table">
      <thead>
        <tr><th scope="col">Camera</th><th scope="col">Kind</th><th scope="col">Source</th><th scope="col">Mode</th><th scope="col">Status</th><th scope="col">Actions</th></tr>
      </thead>
      <tbody id="cameras-body">
        <tr><td colspan="6" class="muted">Loading…</td></tr>
      </tbody>
    </table>
  </div>
</section>
<section class="card">
  <h2>Add a camera</h2>
  <form id="camera-form" class="form" novalidate>
    <div class="form-grid">
      <div class="field">
        <label for="cam-id">Id</label>
        <input type="text" id="cam-id" name="id" maxlength="48" pattern="[a-z0-9][a-z0-9_\-]{0,47}" placeholder="entrance" autocomplete="off" spellcheck="false" autocapitalize="off" required>
        <p class="hint">Lower-case letters, digits, - and _.</p>
        <p class="field-error" id="err-id" hidden></p>
      </div>
      <div class="field">
        <label for="cam-kind">Kind</label>
        <select id="cam-kind" name="kind">
          <option value="webcam">USB webcam (index)</option>
          <option value="mjpeg">MJPEG / ESP32-CAM (URL)</option>
          <option value="rtsp">RTSP / network camera (URL)</option>
          <option value="file">Video file (path)</option>
          <option value="demo">Demo (built-in, no camera)</option>
        </select>
        <p class="field-error" id="err-kind" hidden></p>
      </div>
      <div class="field field-wide">
        <label for="cam-source">Source</label>
        <input type="text" id="cam-source" name="source" maxlength="2048" placeholder="0" autocomplete="off" spellcheck="false" autocapitalize="off" required>
        <p class="hint" id="source-hint">Webcam index, e.g. 0 for /dev/video0.</p>
        <p class="field-error" id="err-source" hidden></p>
      </div>
      <div class="field">
        <label for="cam-mode">Mode</label>
        <select id="cam-mode" name="mode">
          <option value="stream">stream (continuous)</option>
          <option value="capture">capture (single frames)</option>
        </select>
        <p class="field-error" id="err-mode" hidden></p>
      </div>
    </div>
    <p class="muted small">User names and passwords in URLs are stored encrypted and never shown back in full.</p>
    <div class="actions">
      <button type="button" id="cam-test" class="btn">Test</button>
      <button type="submit" id="cam-add" class="btn btn-primary">Add camera</button>
    </div>
    <p class="field-error form-error" id="err-form" hidden></p>
    <p id="cam-test-result" class="alert" role="status" hidden></p>
  </form>
</section>
