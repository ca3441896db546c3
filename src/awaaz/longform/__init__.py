"""Long recordings: cut into pieces the model handles well, decoded like clips, stitched back in time.

The fine-tuned Whisper was trained on clips of 2-22 s. Given a full 30 s window it writes the first
sentence or so, emits its end token, and the rest of the window is lost (78.9 % WER on the 11-minute
concatenation of eval_news against 27.9 % clip by clip). So long audio is never given to the model in
30 s windows: :mod:`~awaaz.longform.pieces` cuts it at its quietest moments, found by voice activity
detection, into pieces of at most 15 s; :mod:`~awaaz.longform.transcribe` decodes each piece as a clip
(same beam, LM rescoring and guards), re-decodes the rest of a piece whose text stops while speech goes
on, halves a piece whose text is too sparse for its speech, and maps every timestamp back;
:mod:`~awaaz.longform.cues` splits the result into subtitle-sized segments.
"""
