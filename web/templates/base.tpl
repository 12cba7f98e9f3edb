%# Layout. A page template starts with  % rebase('base.tpl')  and inherits all its variables:
%#   title, device_name, csrf_token, page.
%# {{!base}} below is the only unescaped output: it is the page template's own rendered HTML,
%# in which every value was already escaped by {{ }}. Never print data with {{! }}.
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{csrf_token}}">
<meta name="referrer" content="no-referrer">
<title>{{title}} · {{device_name}}</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<script src="/static/vendor/chart.umd.min.js" defer></script>
<script src="/static/app.js" defer></script>
</head>
<body data-page="{{page}}">
<header class="topbar">
  <div class="brand">
    <span class="brand-mark" aria-hidden="true"></span>
    <span class="brand-name">{{device_name}}</span>
  </div>
% if page not in ('login', 'setup'):
  <nav class="nav" aria-label="Main">
% for href, key, label in (('/', 'live', 'Live'), ('/stats', 'stats', 'Statistics'), ('/cameras', 'cameras', 'Cameras'), ('/settings', 'settings', 'Settings'), ('/clear', 'clear', 'Clear data')):
%   if key == page:
    <a href="{{href}}" class="nav-link active" aria-current="page">{{label}}</a>
%   else:
    <a href="{{href}}" class="nav-link">{{label}}</a>
%   end
% end
  </nav>
  <form method="post" action="/logout" class="logout">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit" class="btn btn-quiet">Log out</button>
  </form>
% end
</header>
<main class="main">
{{!base}}
</main>
</body>
</html>
