"""Understanding sales conversations: objection × strategy labels per turn (classifier), the "再比较一下" case
check (cases), and the observer that labels every customer and rep message (observe)."""
