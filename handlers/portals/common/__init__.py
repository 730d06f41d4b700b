"""Building blocks both portal packages use: waiting for one of several screens, the browser-side
watchers (document responses, the idle-timeout modal), TOTP codes, value formats, documents."""
