"""On-device vision: model files, the inference runtime, detectors and the redactor.

Pure computation over frames in memory: nothing here touches storage.
"""
