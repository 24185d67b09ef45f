"""Causal sequence models of tokens: the layers of a small Transformer (built from YAML like every model of the
course), the causal mask, the multi-codebook layout (MusicGen's delay pattern), sampling with temperature and
top-k, and the n-gram baselines a language model is measured against.

- ``TokenEmbedding``, ``CausalSelfAttention``, ``TokenHead``: tokens (B, K, T) -> logits (B, K, T, V), K streams
  (codebooks) read together, each step attending only to the steps before it (``causal_mask``);
- ``delay_pattern`` / ``undo_delay_pattern``: codebook k shifted k steps right, so that at step t the model
  predicts codebook k of frame t - k knowing codebooks < k of the same frame [Copet2023];
- ``lm_batch_loss``: teacher forcing, the cross-entropy of each next token (padding and prompts not scored);
- ``generate``: one token per stream and step, sampled (``sample_next_token``);
- ``NGramModel``: unigram and bigram models with add-alpha smoothing, and ``perplexity`` (exp of the mean NLL).

Taught in notebooks/11_generation.ipynb.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(n_step, device=None):
    """The additive attention mask (n_step, n_step) of a causal model: 0 where step i may attend to step j (j <= i),
    -inf where it may not (j > i, the future). Added to the attention scores before their softmax."""
    future_m = torch.ones(n_step, n_step, dtype=torch.bool, device=device).triu(diagonal=1)
    return torch.zeros(n_step, n_step, device=device).masked_fill(future_m, float("-inf"))


def sample_next_token(logit_m, temperature=1.0, top_k=None, generator=None):
    """One token drawn per row of ``logit_m`` (..., V): from softmax(logits / temperature) restricted to the
    ``top_k`` largest logits (None: all). ``temperature`` 0 takes the largest logit. Returns a long tensor (...)."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logit_m.argmax(dim=-1)
    logit_m = logit_m / temperature
    if top_k is not None:
        if not 1 <= top_k:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        kth_v = logit_m.topk(min(top_k, logit_m.shape[-1]), dim=-1).values[..., -1:]
        logit_m = logit_m.masked_fill(logit_m < kth_v, float("-inf"))
    probability_m = torch.softmax(logit_m, dim=-1).reshape(-1, logit_m.shape[-1])
    return torch.multinomial(probability_m, 1, generator=generator).reshape(logit_m.shape[:-1])


# --- the layers of a small Transformer ---------------------------------------------------------------------------


class TokenEmbedding(nn.Module):
    """Tokens (B, K, T) (K streams, e.g. codebooks; any dtype holding whole numbers) -> vectors (B, T, embed_dim):
    the sum of one learned embedding per stream, plus a learned embedding of the position (at most ``max_len``
    steps). YAML: ``[TokenEmbedding, {vocab_size: 1036, n_stream: 4, embed_dim: 128, max_len: 288}]``."""

    def __init__(self, vocab_size, n_stream, embed_dim, max_len):
        super().__init__()
        self.vocab_size, self.max_len = vocab_size, max_len
        self.stream_l = nn.ModuleList([nn.Embedding(vocab_size, embed_dim) for _ in range(n_stream)])
        self.position = nn.Embedding(max_len, embed_dim)

    def forward(self, X):
        X = X.long()
        if X.dim() != 3 or X.shape[1] != len(self.stream_l):
            raise ValueError(f"TokenEmbedding expects tokens (B, {len(self.stream_l)}, T), got {list(X.shape)}")
        if X.shape[-1] > self.max_len:
            raise ValueError(f"{X.shape[-1]} steps, more than max_len {self.max_len}: raise max_len in the YAML")
        if X.numel() and (X.min() < 0 or X.max() >= self.vocab_size):
            raise ValueError(f"tokens must lie in [0, {self.vocab_size}), got {int(X.min())}..{int(X.max())}")
        step_v = torch.arange(X.shape[-1], device=X.device)
        return sum(embedding(X[:, k]) for k, embedding in enumerate(self.stream_l)) + self.position(step_v)


class CausalSelfAttention(nn.Module):
    """One pre-norm Transformer block [Vaswani2017]: x + attention(LayerNorm(x)) with ``causal_mask``, then
    x + MLP(LayerNorm(x)) (GELU, 4 x wider). (B, T, embed_dim) -> (B, T, embed_dim).
    YAML: ``[CausalSelfAttention, {embed_dim: -1, n_head: 4, dropout: 0.1}]``."""

    def __init__(self, embed_dim, n_head, dropout=0.1):
        super().__init__()
        self.norm_1, self.norm_2 = nn.LayerNorm(embed_dim), nn.LayerNorm(embed_dim)
        self.attention = nn.MultiheadAttention(embed_dim, n_head, dropout=dropout, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, 4 * embed_dim), nn.GELU(), nn.Linear(4 * embed_dim, embed_dim),
                                 nn.Dropout(dropout))

    def forward(self, X):
        Y = self.norm_1(X)
        X = X + self.attention(Y, Y, Y, attn_mask=causal_mask(X.shape[1], X.device), need_weights=False)[0]
        return X + self.mlp(self.norm_2(X))


class TokenHead(nn.Module):
    """Vectors (B, T, in_features) -> logits (B, K, T, vocab_size): one linear read-out per stream.
    YAML: ``[TokenHead, {in_features: -1, n_stream: 4, vocab_size: 1030}]``."""

    def __init__(self, in_features, n_stream, vocab_size):
        super().__init__()
        self.norm = nn.LayerNorm(in_features)
        self.linear = nn.Linear(in_features, n_stream * vocab_size)
        self.n_stream, self.vocab_size = n_stream, vocab_size

    def forward(self, X):
        logit = self.linear(self.norm(X))  # (B, T, K * V)
        return logit.view(X.shape[0], X.shape[1], self.n_stream, self.vocab_size).permute(0, 2, 1, 3)


LAYER_D = {"TokenEmbedding": TokenEmbedding, "CausalSelfAttention": CausalSelfAttention, "TokenHead": TokenHead}


# --- several codebooks in one sequence -----------------------------------------------------------------------


def delay_pattern(code_m, empty):
    """Codes (B, K, T) -> (B, K, T + K - 1): codebook k shifted k steps right, the holes filled with ``empty``."""
    n_batch, n_stream, n_frame = code_m.shape
    out_m = torch.full((n_batch, n_stream, n_frame + n_stream - 1), empty, dtype=code_m.dtype, device=code_m.device)
    for k in range(n_stream):
        out_m[:, k, k:k + n_frame] = code_m[:, k]
    return out_m


def undo_delay_pattern(seq_m):
    """The inverse of ``delay_pattern``: (B, K, T + K - 1) -> codes (B, K, T)."""
    n_stream = seq_m.shape[1]
    n_frame = seq_m.shape[-1] - n_stream + 1
    return torch.stack([seq_m[:, k, k:k + n_frame] for k in range(n_stream)], dim=1)


def with_prompt(seq_m, prompt_m):
    """The prompt tokens (B, P) put before the sequence (B, K, T) on every stream: (B, K, P + T)."""
    prompt_m = prompt_m.to(seq_m)[:, None, :].expand(-1, seq_m.shape[1], -1)
    return torch.cat([prompt_m, seq_m], dim=-1)


def lm_batch_loss(device, n_prompt, n_vocab_scored, prepare=None):
    """The batch loss of a causal language model for ``train.fit``: teacher forcing, the model reads tokens
    0..T-2 of the batch's tokens (B, K, T) (``prepare(batch)``; default ``batch['X']``) and is scored on tokens
    1..T-1 by cross-entropy (nats per token). The prompt's tokens (the first ``n_prompt``) and tokens >=
    ``n_vocab_scored`` (the delay pattern's holes, the padding) are not scored: the prompt's last token predicts
    the first scored one."""

    def batch_loss(model, batch):
        token_m = (prepare(batch) if prepare else batch["X"]).to(device)
        logit = model(token_m[..., :-1])  # (B, K, T - 1, V)
        target = token_m[..., 1:].long().clone()
        target[..., : n_prompt - 1] = -100
        target[target >= n_vocab_scored] = -100
        return F.cross_entropy(logit.reshape(-1, logit.shape[-1]), target.reshape(-1), ignore_index=-100)

    return batch_loss


@torch.no_grad()
def token_nll(model, token_m, n_prompt, n_vocab_scored, batch_size=32):
    """The model's negative log-likelihood (nats) of each scored token of ``token_m`` (B, K, T), per stream:
    a list of K arrays (what ``lm_batch_loss`` scores, in eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    nll_l = [[] for _ in range(token_m.shape[1])]
    for start in range(0, len(token_m), batch_size):
        part = token_m[start:start + batch_size].to(device).long()
        logit = model(part[..., :-1])
        nll = F.cross_entropy(logit.permute(0, 3, 1, 2), part[..., 1:], reduction="none")  # (B, K, T - 1)
        scored = part[..., 1:] < n_vocab_scored
        scored[..., : n_prompt - 1] = False
        for k in range(token_m.shape[1]):
            nll_l[k].append(nll[:, k][scored[:, k]].cpu().numpy())
    return [np.concatenate(part_l) for part_l in nll_l]


@torch.no_grad()
def generate(model, prompt_m, n_step, n_stream, n_vocab_sampled, empty=None, temperature=1.0, top_k=None,
             generator=None):
    """Tokens sampled one step at a time after the prompt (B, P): (B, K, n_step), the prompt left out.

    At each step the model reads everything so far and one token per stream is drawn among the first
    ``n_vocab_sampled`` (the codes; not the prompts or the hole) by ``sample_next_token``. With ``empty`` (a delay
    pattern), stream k holds ``empty`` at its first k steps and its last K - 1 - k steps, as ``delay_pattern``."""
    model.eval()
    device = next(model.parameters()).device
    seq_m = prompt_m.to(device).long()[:, None, :].expand(-1, n_stream, -1).clone()
    for step in range(n_step):
        logit = model(seq_m)[:, :, -1, :n_vocab_sampled].float().cpu()  # (B, K, V'); drawn on the CPU's generator
        token_m = sample_next_token(logit, temperature, top_k, generator=generator).to(device)
        if empty is not None:
            for k in range(n_stream):
                if step < k or step >= n_step - (n_stream - 1 - k):
                    token_m[:, k] = empty
        seq_m = torch.cat([seq_m, token_m[..., None]], dim=-1)
    return seq_m[..., prompt_m.shape[1]:]


# --- n-gram baselines ----------------------------------------------------------------------------------------


class NGramModel:
    """A unigram (order 1) or bigram (order 2) model of token streams, add-``alpha`` smoothed over ``vocab_size``
    tokens: the non-learned baselines of a language model. ``fit`` takes sequences (lists or 1-D arrays of ints);
    ``nll`` gives the negative log-likelihood (nats) of every token of a sequence but the first (as the causal
    model is scored: each token knowing the one before)."""

    def __init__(self, order, vocab_size, alpha=0.1):
        if order not in (1, 2):
            raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order}")
        self.order, self.vocab_size, self.alpha = order, vocab_size, alpha
        self.count_m = np.zeros((vocab_size, vocab_size) if order == 2 else (1, vocab_size))

    def fit(self, seq_l):
        for seq in seq_l:
            seq = np.asarray(seq, dtype=int)
            if self.order == 1:
                np.add.at(self.count_m[0], seq, 1)
            else:
                np.add.at(self.count_m, (seq[:-1], seq[1:]), 1)
        return self

    def sample(self, first_token, n_step, n_vocab_sampled, rng, top_k=None):
        """A sequence of ``n_step`` tokens drawn after ``first_token`` among the first ``n_vocab_sampled``, each from
        the bigram's distribution given the token before (a unigram: independently), restricted to its ``top_k``
        most likely tokens (None: all), as ``sample_next_token`` draws. Returns a list of ints."""
        smoothed_m = (self.count_m + self.alpha)[:, :n_vocab_sampled]
        token_l = [int(first_token)]
        for _ in range(n_step):
            row = smoothed_m[token_l[-1] if self.order == 2 else 0].copy()
            if top_k is not None:
                row[row < np.sort(row)[-min(top_k, len(row))]] = 0.0
            token_l.append(int(rng.choice(n_vocab_sampled, p=row / row.sum())))
        return token_l[1:]

    def nll(self, seq):
        seq = np.asarray(seq, dtype=int)
        smoothed_m = self.count_m + self.alpha
        log_p_m = np.log(smoothed_m / smoothed_m.sum(axis=1, keepdims=True))
        return -log_p_m[0, seq[1:]] if self.order == 1 else -log_p_m[seq[:-1], seq[1:]]


def fitted_ngram(order, vocab_size, train_seq_l, valid_seq_l, n_vocab_scored, alpha_l=(1e-3, 1e-2, 0.1, 1.0)):
    """The n-gram model of ``train_seq_l`` whose smoothing ``alpha`` (among ``alpha_l``) gives the validation
    sequences' scored tokens (< ``n_vocab_scored``) the lowest negative log-likelihood: a fair baseline (too little
    smoothing over a large vocabulary overfits the counts, too much flattens them)."""
    best_nll, best = np.inf, None
    for alpha in alpha_l:
        model = NGramModel(order, vocab_size, alpha).fit(train_seq_l)
        nll = np.mean(np.concatenate([model.nll(seq)[np.asarray(seq)[1:] < n_vocab_scored] for seq in valid_seq_l]))
        if nll < best_nll:
            best_nll, best = nll, model
    return best


def ngram_token_nll(ngram_l, token_m, n_prompt, n_vocab_scored):
    """The negative log-likelihoods (nats) that n-gram models (one per stream, ``ngram_l``) give the tokens that
    ``token_nll`` scores in ``token_m`` (B, K, T): a list of K arrays, in the same order, for a fair comparison."""
    token_m = np.asarray(token_m)
    nll_l = [[] for _ in range(token_m.shape[1])]
    for seq_m in token_m:
        for k, seq in enumerate(seq_m):
            scored_v = seq[1:] < n_vocab_scored
            scored_v[: n_prompt - 1] = False
            nll_l[k].append(ngram_l[k].nll(seq)[scored_v])
    return [np.concatenate(part_l) for part_l in nll_l]


def perplexity(nll_v):
    """exp of the mean negative log-likelihood (nats per token): the number of equally likely tokens the model
    hesitates between, on average (a uniform model over V tokens has perplexity V)."""
    return float(math.exp(float(np.mean(nll_v))))
