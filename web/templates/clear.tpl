% rebase('base.tpl')
% n = get('sessions', 0)
<section class="card danger-zone">
  <h1>Clear all data</h1>
  <p>This deletes <strong id="clear-count">{{n}}</strong> recorded session(s) and all statistics
  on this sensor. Cameras, settings and the password are kept. This cannot be undone.</p>
  <form id="clear-form" class="form" novalidate>
    <div class="field">
      <label for="clear-confirm">Type <strong id="clear-count-2">{{n}}</strong> to confirm</label>
      <input type="text" id="clear-confirm" name="confirm" inputmode="numeric" autocomplete="off" spellcheck="false" required>
      <p class="field-error" id="err-confirm" hidden></p>
    </div>
    <button type="submit" class="btn btn-danger" id="clear-submit" disabled>Delete {{n}} session(s)</button>
  </form>
  <p id="clear-result" class="alert" role="status" hidden></p>
</section>
