"""Live transcription: audio arrives as it is spoken, partial guesses go back while someone speaks, and each
utterance, closed by a pause (VAD endpointing) or a length limit, is decoded once more in full as a final.

:mod:`~awaaz.streaming.endpointer` cuts the incoming audio into utterances; :mod:`~awaaz.streaming.session`
decodes them (partials greedy and without the LM, which is cheap; finals with the beam, the LM and the
guards of the offline path). No HTTP here: ``api/routes/stream.py`` speaks the WebSocket protocol.
"""
