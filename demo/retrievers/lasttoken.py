"""Promptriever: a LoRA adapter (peft) on a Llama base, last-token pooling with EOS appended,
normalised (the model card's recipe). Only loads where the hub or the local HF cache has both."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from demo.devices import on_gpu
from demo.retrievers.templates import EncodeInput


def _last_hidden(model, batch):
    return model(**batch).last_hidden_state


class LastTokenEncoder:
    def __init__(self, model, tokenizer, name: str, revision: str, batch_size: int = 8, max_length: int = 512):
        self.model, self.tokenizer, self.name, self.revision = model, tokenizer, name, revision
        self.normalize, self.batch_size, self.max_length = True, batch_size, max_length
        self.dim = model.config.hidden_size
        self._forward = on_gpu(_last_hidden)  # under spaces.GPU on a ZeroGPU Space

    def encode(self, inputs: Sequence[EncodeInput], progress=None) -> np.ndarray:
        import torch
        texts = [i.encoded for i in inputs]
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(texts[start:start + self.batch_size], max_length=self.max_length - 1,
                                   truncation=True, padding=False, return_attention_mask=False)
            ids = [x + [self.tokenizer.eos_token_id] for x in batch["input_ids"]]
            padded = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt", padding=True).to(self.model.device)
            with torch.no_grad():
                hidden = self._forward(self.model, padded)
            last = padded["attention_mask"].sum(dim=1) - 1  # right padding: the EOS position
            reps = hidden[torch.arange(hidden.shape[0]), last]
            out.append(torch.nn.functional.normalize(reps.float(), dim=-1).cpu().numpy())
            if progress:
                progress(min(start + self.batch_size, len(texts)), len(texts))
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)


def load_promptriever(spec, base: tuple[str, str], device: str = "cpu", dtype=None) -> LastTokenEncoder:
    """On a GPU in `dtype` (half precision); on CPU in bfloat16 (float32 would need 32 GB)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModel, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(base[0], revision=base[1])
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    tokenizer.padding_side = "right"
    model = AutoModel.from_pretrained(base[0], revision=base[1], dtype=dtype or torch.bfloat16)
    model = PeftModel.from_pretrained(model, spec.hub_id, revision=spec.revision).merge_and_unload().eval().to(device)
    return LastTokenEncoder(model, tokenizer, spec.model_id, f"{base[1]}-{spec.revision}")
