"""Touch widgets of the kiosk: big buttons, keypads, field editors, the signature pad."""
