"""The scheduled-jobs process (`zjtx scheduler`): job functions, run recording, single-instance lock."""
