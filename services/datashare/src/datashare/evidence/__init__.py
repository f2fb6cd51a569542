"""Evidence requests (数据共享调用) and material resolution (一证通办), decided, logged and signed."""
