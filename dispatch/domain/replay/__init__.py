"""After-action replay, pure: frames, the picture at any instant, events, figures, exports, zone history."""
