"""The tagger's network: the MiniLM encoder, a casing embedding, and a linear BIO head (torch; training only).

The encoder's vocabulary is lowercase, so each sub-token's casing shape enters twice: added to its input
embedding (initialised to zero, so training starts from the pretrained encoder and lets the layers use
casing in context), and as a small embedding concatenated to its output vector before the head.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertModel

from broadsheet.tasks.tagger import SHAPES


class TokenTagger(nn.Module):
    def __init__(self, encoder_path: str, labels: int, case_dim: int = 32, attn: str = "sdpa") -> None:
        super().__init__()
        self.encoder = BertModel.from_pretrained(encoder_path, add_pooling_layer=False, attn_implementation=attn)
        hidden = self.encoder.config.hidden_size
        self.case_input = nn.Embedding(SHAPES, hidden)
        nn.init.zeros_(self.case_input.weight)
        self.case_head = nn.Embedding(SHAPES, case_dim)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(hidden + case_dim, labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, case_ids: torch.Tensor) -> torch.Tensor:
        embeds = self.encoder.embeddings.word_embeddings(input_ids) + self.case_input(case_ids)
        hidden = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask,
                              token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        features = torch.cat([hidden, self.case_head(case_ids)], dim=-1)
        return self.classifier(self.dropout(features))

    def new_parameters(self) -> list[nn.Parameter]:
        return [*self.case_input.parameters(), *self.case_head.parameters(), *self.classifier.parameters()]
