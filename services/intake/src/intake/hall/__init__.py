"""The hall (大厅): windows, queues, one-click tickets (一键取号), calling (叫号) and appointments (预约)."""
